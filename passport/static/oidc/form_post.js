// response_mode=form_post (OAuth 2.0 Form Post Response Mode): submit the response at once.
document.getElementById("form-post-response").submit();
